"""Programs LiteLLM loads from beside its config (custom_auth, callbacks): real files, linted like
the rest, written into the proxy's folder as they are."""
