# The streamscope services, all from the pipeline image built by
# docker/pipeline-cpu.Dockerfile (the GPU detector: docker/pipeline-gpu.Dockerfile,
# tag "<pipeline_image_tag>-gpu").

locals {
  app_services = concat(["detector", "aggregator"], local.airflow_services)
}

# A shared signing key of Airflow's API (every Airflow process must use the
# same one). Terraform creates the secret, never its value (docs/deploy.md).
resource "aws_secretsmanager_secret" "airflow_jwt" {
  #checkov:skip=CKV2_AWS_57:A random signing key put by the operator (docs/deploy.md); rotating it is a put-secret-value and a redeploy, not a Lambda rotation.
  name        = "${var.name_prefix}/airflow-jwt-secret"
  description = "Airflow [api_auth] jwt_secret shared by scheduler, dag-processor, api-server and triggerer"
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_service_discovery_service" "airflow_api" {
  name = "airflow-api"
  tags = var.tags

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

resource "aws_ecs_task_definition" "app" {
  # The root file system stays writable: Airflow writes its task logs and
  # ultralytics its settings inside the container.
  for_each                 = toset(local.app_services)
  family                   = "${var.name_prefix}-${each.key}"
  requires_compatibilities = each.key == "detector" && local.gpu ? ["EC2"] : ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(local.sizes[each.key].cpu)
  memory                   = tostring(local.sizes[each.key].memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.app.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name       = each.key
      image      = each.key == "detector" && local.gpu ? "${local.image}-gpu" : local.image
      essential  = true
      entryPoint = local.entry_points[each.key]
      command    = local.commands[each.key]
      privileged = false
      environment = [
        for k, v in merge(local.common_environment, lookup(local.service_environment, each.key, local.airflow_environment)) : { name = k, value = v }
      ]
      secrets = concat(
        [{ name = "PGPASSWORD", valueFrom = "${var.database_secret_arn}:password::" }],
        contains(local.airflow_services, each.key) ? [{ name = "AIRFLOW__API_AUTH__JWT_SECRET", valueFrom = aws_secretsmanager_secret.airflow_jwt.arn }] : [],
      )
      portMappings = concat(
        contains(keys(local.metrics_ports), each.key) ? [{ containerPort = local.metrics_ports[each.key], protocol = "tcp" }] : [],
        each.key == "airflow-api-server" ? [{ containerPort = 8080, protocol = "tcp" }] : [],
      )
      resourceRequirements = each.key == "detector" && local.gpu ? [{ type = "GPU", value = "1" }] : null
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = each.key
        }
      }
      stopTimeout = 60
    }
  ])
}

resource "aws_ecs_service" "app" {
  for_each               = toset(local.app_services)
  name                   = each.key
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.app[each.key].arn
  desired_count          = local.sizes[each.key].desired_count
  launch_type            = each.key == "detector" && local.gpu ? null : "FARGATE"
  platform_version       = each.key == "detector" && local.gpu ? null : "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false
  tags                   = var.tags

  # One scheduler at a time: its LocalExecutor runs the readers, and a second
  # one during a deployment would read every stream twice.
  deployment_minimum_healthy_percent = each.key == "airflow-scheduler" ? 0 : 100
  deployment_maximum_percent         = each.key == "airflow-scheduler" ? 100 : 200

  dynamic "service_registries" {
    for_each = each.key == "airflow-api-server" ? [1] : []
    content {
      registry_arn = aws_service_discovery_service.airflow_api.arn
    }
  }

  dynamic "capacity_provider_strategy" {
    for_each = each.key == "detector" && local.gpu ? [1] : []
    content {
      capacity_provider = aws_ecs_capacity_provider.gpu[0].name
      weight            = 1
    }
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}
