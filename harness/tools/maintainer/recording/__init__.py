"""Recording provider tapes: scenarios through LiteLLM to a real provider, the relay, the audit of
the tapes."""
