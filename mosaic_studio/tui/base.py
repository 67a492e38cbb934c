"""What every area screen shares: access to the services and the one worker-failure notice."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from mosaic_studio.tui.services import Services


class AreaScreen(Screen[None]):
    """A mode's screen; its thread workers' failures become a visible notice, never a crash."""

    @property
    def services(self) -> Services:
        found: Any = getattr(self.app, "services", None)
        if not isinstance(found, Services):
            raise RuntimeError("the app has no services")
        return found

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        what = event.worker.description or event.worker.name or "background task"
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        self.notify(f"{what} failed: {message}", title="Error", severity="error", timeout=10)
        self.worker_failed(event.worker, error)

    def worker_failed(self, worker: Worker[Any], error: BaseException | None) -> None:
        """Hook for screens that reset state after a failure."""
