"""The MOSAIC agent loop: drives sandboxed episodes with a model backend, with live events."""
