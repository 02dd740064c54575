"""Work orders: types, state machines, evidence steps, deadlines, and their store."""
