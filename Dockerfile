# The worker, the API and the sandbox share one image; the command picks the process.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LINKEDIN_ATS_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY linkedin linkedin
COPY activities activities
COPY workflows workflows
COPY workers workers
COPY client client
COPY api api
COPY linkedin_sandbox linkedin_sandbox
COPY cli cli
COPY settings settings
COPY chaos chaos
RUN pip install . \
    && useradd --system --uid 10001 --home /data app \
    && mkdir -p /data && chown app /data

USER app
VOLUME ["/data"]
ENTRYPOINT ["linkedin-ats"]
CMD ["worker"]
