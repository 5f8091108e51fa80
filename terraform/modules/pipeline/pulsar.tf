# Self-managed Apache Pulsar (pulsar_mode = "self_managed"): one standalone
# broker with bookie and metadata store in one task, data on encrypted EFS so a
# restart loses nothing, reachable as pulsar.<namespace>:6650 through Cloud Map.
# A CloudWatch agent sidecar scrapes the broker's Prometheus endpoint and
# publishes pulsar_msg_backlog per topic, which the backlog alarms watch.
#
# For more than one environment's load, run a real cluster (or a managed one)
# and set pulsar_mode = "external".

locals {
  pulsar_count = local.self_managed_pulsar ? 1 : 0

  cwagent_config = jsonencode({
    logs = {
      metrics_collected = {
        prometheus = {
          log_group_name         = "/streamscope/${var.name_prefix}/pulsar-metrics"
          prometheus_config_path = "env:PROMETHEUS_CONFIG_CONTENT"
          emf_processor = {
            metric_namespace = var.metrics_namespace
            metric_declaration = [
              {
                source_labels    = ["job"]
                label_matcher    = "^pulsar$"
                dimensions       = [["topic"]]
                metric_selectors = ["^pulsar_msg_backlog$", "^pulsar_rate_in$", "^pulsar_rate_out$"]
              },
            ]
          }
        }
      }
      force_flush_interval = 5
    }
  })

  prometheus_config = <<-YAML
    global:
      scrape_interval: 1m
      scrape_timeout: 10s
    scrape_configs:
      - job_name: pulsar
        metrics_path: /metrics/
        static_configs:
          - targets: ["localhost:8080"]
  YAML
}

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = local.namespace_name
  description = "streamscope internal service names"
  vpc         = var.vpc_id
  tags        = var.tags
}

resource "aws_service_discovery_service" "pulsar" {
  count = local.pulsar_count
  name  = "pulsar"
  tags  = var.tags

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}

# --- Network ---------------------------------------------------------------------------

resource "aws_security_group" "pulsar" {
  count       = local.pulsar_count
  name        = "${var.name_prefix}-pulsar"
  description = "Pulsar broker: binary protocol 6650 from the pipeline tasks only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-pulsar" })
}

resource "aws_vpc_security_group_ingress_rule" "pulsar_binary" {
  count                        = local.pulsar_count
  security_group_id            = aws_security_group.pulsar[0].id
  description                  = "Pulsar binary protocol from the pipeline tasks"
  ip_protocol                  = "tcp"
  from_port                    = 6650
  to_port                      = 6650
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_egress_rule" "pulsar_https" {
  count             = local.pulsar_count
  security_group_id = aws_security_group.pulsar[0].id
  description       = "Image pulls and AWS APIs (CloudWatch Logs) over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "pulsar_efs" {
  count                        = local.pulsar_count
  security_group_id            = aws_security_group.pulsar[0].id
  description                  = "NFS to the Pulsar data volume"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.efs[0].id
}

resource "aws_security_group" "efs" {
  count       = local.pulsar_count
  name        = "${var.name_prefix}-pulsar-data"
  description = "Pulsar EFS volume: NFS from the Pulsar task only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-pulsar-data" })
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_pulsar" {
  count                        = local.pulsar_count
  security_group_id            = aws_security_group.efs[0].id
  description                  = "NFS from the Pulsar task"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.pulsar[0].id
}

# --- Storage ---------------------------------------------------------------------------

resource "aws_efs_file_system" "pulsar" {
  count          = local.pulsar_count
  creation_token = "${var.name_prefix}-pulsar"
  encrypted      = true
  kms_key_id     = var.kms_key_arn
  tags           = merge(var.tags, { Name = "${var.name_prefix}-pulsar" })

  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }
}

resource "aws_efs_backup_policy" "pulsar" {
  count          = local.pulsar_count
  file_system_id = aws_efs_file_system.pulsar[0].id

  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_efs_mount_target" "pulsar" {
  count           = local.self_managed_pulsar ? length(var.subnet_ids) : 0
  file_system_id  = aws_efs_file_system.pulsar[0].id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = [aws_security_group.efs[0].id]
}

# The Pulsar image runs as uid 10000, gid 0.
resource "aws_efs_access_point" "pulsar" {
  count          = local.pulsar_count
  file_system_id = aws_efs_file_system.pulsar[0].id
  tags           = var.tags

  posix_user {
    uid = 10000
    gid = 0
  }

  root_directory {
    path = "/pulsar-data"

    creation_info {
      owner_uid   = 10000
      owner_gid   = 0
      permissions = "0750"
    }
  }
}

# --- IAM -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "pulsar_task" {
  count = local.pulsar_count

  statement {
    sid       = "MountOwnVolume"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.pulsar[0].arn]

    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.pulsar[0].arn]
    }
  }

  statement {
    sid = "PublishBacklogMetrics"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.service["pulsar-metrics"].arn}:*"]
  }
}

resource "aws_iam_role" "pulsar" {
  count              = local.pulsar_count
  name               = "${var.name_prefix}-pulsar"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "pulsar" {
  count  = local.pulsar_count
  name   = "volume-and-metrics"
  role   = aws_iam_role.pulsar[0].id
  policy = data.aws_iam_policy_document.pulsar_task[0].json
}

# --- Task and service ----------------------------------------------------------------------

resource "aws_ecs_task_definition" "pulsar" {
  # The root file system stays writable: Pulsar writes logs and generated
  # configuration under /pulsar; only /pulsar/data is on EFS.
  count                    = local.pulsar_count
  family                   = "${var.name_prefix}-pulsar"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.pulsar_cpu)
  memory                   = tostring(var.pulsar_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.pulsar[0].arn
  tags                     = var.tags

  volume {
    name = "pulsar-data"

    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.pulsar[0].id
      transit_encryption = "ENABLED"

      authorization_config {
        access_point_id = aws_efs_access_point.pulsar[0].id
        iam             = "ENABLED"
      }
    }
  }

  container_definitions = jsonencode([
    {
      name       = "pulsar"
      image      = "${var.mirror_repository_urls["pulsar"]}:${var.image_tag}"
      essential  = true
      privileged = false
      # No functions worker, no stream storage: just broker + bookie + metadata.
      command = ["bin/pulsar", "standalone", "--no-functions-worker", "--no-stream-storage"]
      environment = [
        { name = "PULSAR_MEM", value = "-Xms${floor(var.pulsar_memory / 4)}m -Xmx${floor(var.pulsar_memory / 4)}m -XX:MaxDirectMemorySize=${floor(var.pulsar_memory / 4)}m" },
      ]
      portMappings = [
        { containerPort = 6650, protocol = "tcp" },
        { containerPort = 8080, protocol = "tcp" },
      ]
      mountPoints = [
        { sourceVolume = "pulsar-data", containerPath = "/pulsar/data", readOnly = false },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service["pulsar"].name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "pulsar"
        }
      }
      stopTimeout = 120
    },
    {
      name       = "cloudwatch-agent"
      image      = "${var.mirror_repository_urls["cloudwatch-agent"]}:${var.image_tag}"
      essential  = false
      privileged = false
      environment = [
        { name = "CW_CONFIG_CONTENT", value = local.cwagent_config },
        { name = "PROMETHEUS_CONFIG_CONTENT", value = local.prometheus_config },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service["pulsar"].name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "cloudwatch-agent"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "pulsar" {
  count                  = local.pulsar_count
  name                   = "pulsar"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.pulsar[0].arn
  desired_count          = 1
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false
  tags                   = var.tags

  # One broker owns the data directory: stop the old task before starting a new one.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.pulsar[0].id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.pulsar[0].arn
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_efs_mount_target.pulsar]
}
