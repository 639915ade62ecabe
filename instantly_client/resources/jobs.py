"""``client.jobs``: SPEC ``GET /api/v2/background-jobs/{id}``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import JobTimeoutError, ValidationError
from ..models.job import BackgroundJob
from ._base import Resource, path_id

__all__ = ["Jobs"]


class Jobs(Resource):
    """Background jobs (e.g. from ``leads.move``)."""

    def get(self, job_id: str, data_fields: str | Sequence[str] | None = None) -> BackgroundJob:
        """``GET /background-jobs/{id}``.

        Args:
            job_id: the job id.
            data_fields: extra fields for ``data``, e.g. ``["success_count", "failed_count"]`` or
                ``["moved_lead_emails", "moved_leads"]``.
        """
        fields = data_fields if data_fields is None or isinstance(data_fields, str) else ",".join(data_fields)
        payload = self._request("GET", f"/background-jobs/{path_id(job_id)}", params={"data_fields": fields})
        return BackgroundJob.model_validate(payload)

    def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float = 600.0,
        data_fields: str | Sequence[str] | None = None,
    ) -> BackgroundJob:
        """Poll until the job is ``success``, ``failed`` or ``cancelled`` and return it.

        A failed or cancelled job is returned, not raised: check ``job.status``.

        Raises:
            JobTimeoutError: the job was still running after ``timeout`` seconds.
        """
        if poll_interval <= 0:
            raise ValidationError("poll_interval must be positive")
        clock, sleep = self._client._clock, self._client._sleep
        deadline = clock() + timeout
        while True:
            job = self.get(job_id, data_fields=data_fields)
            if job.is_terminal:
                return job
            remaining = deadline - clock()
            if remaining <= 0:
                raise JobTimeoutError(
                    f"job {job_id} still {job.status!r} ({job.progress}%) after {timeout:g}s",
                    path=f"/background-jobs/{job_id}",
                    method="GET",
                )
            sleep(min(poll_interval, remaining))
