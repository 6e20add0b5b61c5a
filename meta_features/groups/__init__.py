"""The meta-feature groups; each module's ``compute(ctx)`` returns its declared features."""
