"""Field hardware behind small typed interfaces, each with a simulator."""
