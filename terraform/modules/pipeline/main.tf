# The streaming side: an ECS cluster running
#   detector   - `streamscope detector`   (Fargate CPU, or EC2 GPU instances)
#   aggregator - `streamscope aggregator`
#   airflow-*  - production Airflow, one service per process: scheduler (LocalExecutor:
#                it runs the stream_reader DAG's tasks, i.e. the readers, and dbt),
#                dag-processor, api-server and triggerer; metadata in a separate
#                "airflow" database on the RDS instance. Never `airflow standalone`.
#   pulsar     - Apache Pulsar standalone on EFS (pulsar_mode = "self_managed"),
#                or nothing when an external broker URL is given.
#
# Every task runs in private subnets without a public IP. Nothing is reachable
# from the internet: the only ingress rules are allow-lists for metrics scrapers
# and the Airflow UI, whose variables reject 0.0.0.0/0.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  self_managed_pulsar = var.pulsar_mode == "self_managed"
  namespace_name      = "${var.name_prefix}.streamscope.internal"
  pulsar_url          = local.self_managed_pulsar ? "pulsar://pulsar.${local.namespace_name}:6650" : var.pulsar_url
  image               = "${var.image_repository_url}:${var.image_tag}"
  gpu                 = var.detector_launch_type == "EC2_GPU"

  # Prometheus ports of the components (readers run inside the scheduler task).
  metrics_ports = {
    airflow-scheduler = 9101
    detector          = 9102
    aggregator        = 9103
  }

  # The Airflow processes run the airflow binary of the pipeline image; the
  # workers the streamscope CLI. `airflow db migrate` is a one-off task
  # (docs/deploy.md), run before the services start.
  entry_points = {
    detector              = ["streamscope"]
    aggregator            = ["streamscope"]
    airflow-scheduler     = ["airflow"]
    airflow-dag-processor = ["airflow"]
    airflow-api-server    = ["airflow"]
    airflow-triggerer     = ["airflow"]
  }

  commands = {
    detector              = ["detector"]
    aggregator            = ["aggregator"]
    airflow-scheduler     = ["scheduler"]
    airflow-dag-processor = ["dag-processor"]
    airflow-api-server    = ["api-server", "--port", "8080"]
    airflow-triggerer     = ["triggerer"]
  }

  airflow_services = ["airflow-scheduler", "airflow-dag-processor", "airflow-api-server", "airflow-triggerer"]
  airflow_api_url  = "http://airflow-api.${local.namespace_name}:8080"

  # service_sizes["airflow"] sizes the scheduler (it runs the readers and dbt);
  # the other Airflow processes are small.
  sizes = merge(
    { detector = var.service_sizes["detector"], aggregator = var.service_sizes["aggregator"] },
    { for s in local.airflow_services : s => (
      s == "airflow-scheduler" ? var.service_sizes["airflow"] :
      { cpu = 512, memory = 1024, desired_count = min(var.service_sizes["airflow"].desired_count, 1) }
    ) },
  )

  airflow_environment = {
    AIRFLOW__CORE__EXECUTOR                    = "LocalExecutor"
    AIRFLOW__CORE__LOAD_EXAMPLES               = "False"
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION = "False"
    AIRFLOW__CORE__PARALLELISM                 = "8"
    # The metadata database: a separate database on the RDS instance; the
    # password comes from PGPASSWORD (libpq), injected from the RDS secret.
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN = "postgresql+psycopg://${var.database_username}@${var.database_address}:${var.database_port}/${var.airflow_database_name}?sslmode=require"
    # Airflow would derive an asyncpg URL for its async engine (asyncpg is not installed): psycopg 3 for both.
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC = "postgresql+psycopg://${var.database_username}@${var.database_address}:${var.database_port}/${var.airflow_database_name}?sslmode=require"
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL   = "${local.airflow_api_url}/execution/"
    AIRFLOW__API__HOST                        = "0.0.0.0"
    AIRFLOW__API__PORT                        = "8080"
    AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK   = "True"
    AIRFLOW__COSMOS__ENABLE_TELEMETRY         = "False"
    DBT_SEND_ANONYMOUS_USAGE_STATS            = "False"
  }

  common_environment = merge(var.extra_environment, {
    # The password is not in the URL: libpq-based drivers take it from
    # PGPASSWORD (injected from the RDS secret below); the app may also re-read
    # STREAMSCOPE_DATABASE_SECRET_ARN after the secret rotates.
    STREAMSCOPE_DATABASE_URL        = "postgresql://${var.database_username}@${var.database_address}:${var.database_port}/${var.database_name}?sslmode=require"
    STREAMSCOPE_DATABASE_SECRET_ARN = var.database_secret_arn
    STREAMSCOPE_PULSAR_URL          = local.pulsar_url
    AWS_REGION                      = data.aws_region.current.name
  })

  service_environment = {
    detector = {
      STREAMSCOPE_DETECTOR_DEVICE = var.detector_device
      YOLO_OFFLINE                = "1"
      YOLO_AUTOINSTALL            = "false"
      YOLO_CONFIG_DIR             = "/tmp/ultralytics"
    }
    aggregator = {}
  }
}

# --- Cluster ---------------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name_prefix
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = concat(["FARGATE", "FARGATE_SPOT"], local.gpu ? [aws_ecs_capacity_provider.gpu[0].name] : [])

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (log_retention_days, validated; 14 days in dev, 90 in prod); these are operational logs, the lasting data is in Postgres.
  for_each          = toset(concat(local.app_services, local.self_managed_pulsar ? ["pulsar", "pulsar-metrics"] : []))
  name              = "/streamscope/${var.name_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# --- Security groups -----------------------------------------------------------------------

resource "aws_security_group" "tasks" {
  name        = "${var.name_prefix}-pipeline"
  description = "Pipeline tasks: egress to stream hosts, AWS APIs, Pulsar and the database; ingress only from allow-listed CIDRs"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-pipeline" })
}

# Readers fetch public livestreams (YouTube, HLS) from anywhere on the internet,
# and all tasks call AWS APIs (ECR, Logs, Secrets Manager) over HTTPS: egress to
# 0.0.0.0/0 is limited to these ports. Egress only - nothing comes in this way.
resource "aws_vpc_security_group_egress_rule" "tasks_streams" {
  for_each          = toset([for p in var.stream_egress_ports : tostring(p)])
  security_group_id = aws_security_group.tasks.id
  description       = "Stream hosts and AWS APIs on port ${each.key}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tasks_database" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the pipeline tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_pulsar_internal" {
  count                        = local.self_managed_pulsar ? 1 : 0
  security_group_id            = aws_security_group.tasks.id
  description                  = "Pulsar binary protocol to the self-managed broker"
  ip_protocol                  = "tcp"
  from_port                    = 6650
  to_port                      = 6650
  referenced_security_group_id = aws_security_group.pulsar[0].id
}

resource "aws_vpc_security_group_egress_rule" "tasks_pulsar_external" {
  for_each          = local.self_managed_pulsar ? toset([]) : toset(var.pulsar_egress_cidrs)
  security_group_id = aws_security_group.tasks.id
  description       = "Pulsar (plain and TLS) to the external cluster"
  ip_protocol       = "tcp"
  from_port         = 6650
  to_port           = 6651
  cidr_ipv4         = each.value
}

# Allow-list ingress: the variables reject 0.0.0.0/0 and ::/0.
resource "aws_vpc_security_group_ingress_rule" "tasks_metrics" {
  for_each          = toset(var.metrics_scraper_cidrs)
  security_group_id = aws_security_group.tasks.id
  description       = "Prometheus scrape (9101 reader, 9102 detector, 9103 aggregator) from an allow-listed network"
  ip_protocol       = "tcp"
  from_port         = 9101
  to_port           = 9103
  cidr_ipv4         = each.value
}

# The Airflow processes call the API server's execution API inside the group.
resource "aws_vpc_security_group_ingress_rule" "tasks_airflow_api_internal" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Airflow execution API between the Airflow tasks"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_airflow_ui" {
  for_each          = toset(var.airflow_ui_allowed_cidrs)
  security_group_id = aws_security_group.tasks.id
  description       = "Airflow API server and UI from an allow-listed network"
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_ipv4         = each.value
}

# --- IAM -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Execution role: pull images, write logs, inject the database password.
resource "aws_iam_role" "execution" {
  name               = "${var.name_prefix}-pipeline-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_database_secret" {
  statement {
    sid       = "ReadDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_secret_arn, aws_secretsmanager_secret.airflow_jwt.arn]
  }

  statement {
    sid       = "DecryptWithEnvironmentKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution_secret" {
  name   = "read-database-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_database_secret.json
}

# Task role of the streamscope containers: only the database secret (to
# re-read the password after rotation). Streams, Pulsar and Postgres need no
# AWS permissions.
resource "aws_iam_role" "app" {
  name               = "${var.name_prefix}-pipeline-app"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "app_secret" {
  name   = "read-database-secret"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.read_database_secret.json
}
