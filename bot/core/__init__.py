"""Platform-neutral core: message types, router, middleware, context, clock."""
