"""Docker sandboxes, the tools that run inside them, scenarios and graders.

This package never imports `mosaic_studio` or `trainer`.
"""
