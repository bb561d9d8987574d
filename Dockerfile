FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY catalog ./catalog
COPY ingest ./ingest
RUN pip install .
COPY . .
RUN DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=build-only ALLOWED_HOSTS=* \
    python manage.py collectstatic --noinput
RUN useradd --create-home catalog && mkdir -p /app/data && chown -R catalog /app/data
USER catalog
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
