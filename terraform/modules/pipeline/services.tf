# The three streamscope services, all from the same pipeline image.

locals {
  app_services = ["detector", "aggregator", "airflow"]
}

resource "aws_ecs_task_definition" "app" {
  # The root file system stays writable: Airflow standalone writes its home
  # (SQLite, logs) and ultralytics its settings inside the container.
  for_each                 = toset(local.app_services)
  family                   = "${var.name_prefix}-${each.key}"
  requires_compatibilities = each.key == "detector" && local.gpu ? ["EC2"] : ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.service_sizes[each.key].cpu)
  memory                   = tostring(var.service_sizes[each.key].memory)
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
      image      = local.image
      essential  = true
      entryPoint = ["streamscope"]
      command    = local.commands[each.key]
      privileged = false
      environment = [
        for k, v in merge(local.common_environment, local.service_environment[each.key]) : { name = k, value = v }
      ]
      secrets = [
        { name = "PGPASSWORD", valueFrom = "${var.database_secret_arn}:password::" },
      ]
      portMappings = concat(
        [{ containerPort = local.metrics_ports[each.key], protocol = "tcp" }],
        each.key == "airflow" ? [{ containerPort = 8080, protocol = "tcp" }] : [],
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
  desired_count          = var.service_sizes[each.key].desired_count
  launch_type            = each.key == "detector" && local.gpu ? null : "FARGATE"
  platform_version       = each.key == "detector" && local.gpu ? null : "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false
  tags                   = var.tags

  # Airflow standalone must never run twice side by side.
  deployment_minimum_healthy_percent = each.key == "airflow" ? 0 : 100
  deployment_maximum_percent         = each.key == "airflow" ? 100 : 200

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
