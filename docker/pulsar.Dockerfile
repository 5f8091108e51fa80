# Apache Pulsar for pulsar_mode = "self_managed", mirrored into this deployment's ECR repository so the ECS
# task pulls nothing from Docker Hub at run time. The version is pinned here; tag the mirror like the other
# images (the git commit): docker build -f docker/pulsar.Dockerfile -t "$REPO_PULSAR:$TAG" docker
FROM apachepulsar/pulsar:4.0.4
# The upstream image runs as uid 10000, gid 0 (the EFS access point matches).
USER 10000:0
