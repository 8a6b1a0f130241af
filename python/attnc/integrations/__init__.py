"""Integrations of attnc with other libraries.

* `attnc.integrations.transformers`: attnc as a Hugging Face transformers
  attention backend (`register()`, then `attn_implementation="attnc"`).

Each integration imports its library only when it is used.
"""
