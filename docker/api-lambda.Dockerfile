# The API on AWS Lambda (handler api.lambda_handler.handler): base dependencies, api/ and core/ only.
# No torch, cv2 or pulsar inside (docker/install.sh api fails otherwise). Build from the repository root:
#   docker build -f docker/api-lambda.Dockerfile -t streamscope-api:$TAG .
FROM public.ecr.aws/lambda/python:3.11 AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY core core
COPY api api
COPY docker/install.sh docker/install.sh
RUN PYTHON=python3.11 bash docker/install.sh api /opt/task

FROM public.ecr.aws/lambda/python:3.11
COPY --from=build /opt/task ${LAMBDA_TASK_ROOT}
# Lambda runs the function as its own unprivileged user; the image does not need root either.
USER 1000:1000
CMD ["api.lambda_handler.handler"]
