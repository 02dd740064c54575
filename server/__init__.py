"""waterops service: the HTTP app, its CLI, and the work-order, crew, customer and policy domain."""
