"""The gateway under test: configs, the LiteLLM process and fork server, the reference gateway,
black-box targets."""
