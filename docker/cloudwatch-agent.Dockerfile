# The CloudWatch agent sidecar of the self-managed Pulsar task (Pulsar's Prometheus backlog -> CloudWatch),
# mirrored into ECR. Pin the upstream version at build time (a fixed tag from the ECR Public gallery, never
# latest): docker build -f docker/cloudwatch-agent.Dockerfile --build-arg CWAGENT_TAG=<version> \
#   -t "$REPO_CWAGENT:$TAG" docker
ARG CWAGENT_TAG
FROM public.ecr.aws/cloudwatch-agent/cloudwatch-agent:${CWAGENT_TAG}
