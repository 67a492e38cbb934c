"""The Textual app of MOSAIC Studio: one mode per area (Run, Trajectories, Label, Judge, …).

`make_app(...)` (in `app.py`) builds the app with injectable parts; `launch.launch_app(args)` is
what `mosaic` with no command runs.
"""
