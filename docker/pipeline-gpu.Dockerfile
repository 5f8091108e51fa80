# The pipeline image for NVIDIA GPUs (the detector on ECS GPU instances). PyPI's torch wheels carry the CUDA
# runtime libraries; the NVIDIA container runtime on the host provides the driver. Same code and weights as the
# CPU image. docker build -f docker/pipeline-gpu.Dockerfile -t streamscope-pipeline:$TAG-gpu .
FROM python:3.11.14-slim-bookworm AS build
ARG TORCH_INDEX_URL=
WORKDIR /src
COPY . .
RUN TORCH_INDEX_URL="${TORCH_INDEX_URL}" PYTHON=python3.11 bash docker/install.sh pipeline /opt/streamscope

FROM python:3.11.14-slim-bookworm
# opencv-python (what ultralytics requires) needs libGL and GLib; versions follow the pinned Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 streamscope \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/streamscope streamscope \
    && install -d -o streamscope -g streamscope /var/lib/streamscope /opt/airflow
COPY --from=build /opt/streamscope /opt/streamscope
COPY dags /opt/airflow/dags
ENV PATH=/opt/streamscope/bin:$PATH \
    STREAMSCOPE_DATA_DIR=/var/lib/streamscope \
    STREAMSCOPE_METRICS_BIND=0.0.0.0 \
    YOLO_OFFLINE=1 \
    YOLO_AUTOINSTALL=false \
    YOLO_CONFIG_DIR=/tmp/ultralytics \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    STREAMSCOPE_DETECTOR_DEVICE=cuda:0 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
USER 10001:10001
WORKDIR /home/streamscope
ENTRYPOINT ["streamscope"]
CMD ["--help"]
