# One image for every role: api, worker (fetcher / pipeline / notifier queues), beat, migrate+seed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements/ requirements/
RUN pip install --require-hashes --no-deps -r requirements/model.txt

COPY pyproject.toml setup.py README.md ./
COPY shared/ shared/
COPY services/ services/
COPY bench/ bench/
COPY seeds/ seeds/
# gcc builds the matcher's C extension (shared/rules/_core.pyx) and leaves with the build.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 newswatch \
    && mkdir -p /data /metrics && chown newswatch /data /metrics

USER newswatch
ENV NEWSWATCH_DATA_DIR=/data NEWSWATCH_SEEDS_DIR=/app/seeds
EXPOSE 8000
CMD ["newswatch", "api", "--host", "0.0.0.0", "--port", "8000"]
