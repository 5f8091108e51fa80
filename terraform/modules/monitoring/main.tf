# Alarms and where they go. Log groups (with retention and the environment key)
# belong to the modules that write them; this module watches the results:
#   - API: 5xx responses of the HTTP API, errors and throttles of the Lambda;
#   - pipeline: Pulsar backlog per topic, ECS services without a running task;
#   - database: CPU and free storage.

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  actions = [aws_sns_topic.alarms.arn]
}

# --- API -----------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The HTTP API returned more than ${var.api_5xx_threshold} 5xx responses in 5 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.api_5xx_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    ApiId = var.api_id
    Stage = var.api_stage
  }
}

resource "aws_cloudwatch_metric_alarm" "api_lambda_errors" {
  alarm_name          = "${var.name_prefix}-api-lambda-errors"
  alarm_description   = "The API Lambda raised errors (unhandled exceptions, timeouts) in two 5-minute periods in a row."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    FunctionName = var.api_function_name
  }
}

resource "aws_cloudwatch_metric_alarm" "api_lambda_throttles" {
  alarm_name          = "${var.name_prefix}-api-lambda-throttles"
  alarm_description   = "The API Lambda hit its reserved concurrency."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  tags                = var.tags

  dimensions = {
    FunctionName = var.api_function_name
  }
}

# --- Pipeline --------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "backlog" {
  for_each            = toset(var.backlog_topics)
  alarm_name          = "${var.name_prefix}-backlog-${replace(element(split("/", each.value), length(split("/", each.value)) - 1), "/[^A-Za-z0-9_-]/", "-")}"
  alarm_description   = "Pulsar backlog of ${each.value} stayed above ${var.backlog_threshold} messages for ${var.backlog_evaluation_minutes} minutes: consumers are down or too slow."
  namespace           = var.backlog_metric_namespace
  metric_name         = "pulsar_msg_backlog"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = var.backlog_evaluation_minutes / 5
  threshold           = var.backlog_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = var.backlog_missing_data
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    topic = each.value
  }
}

resource "aws_cloudwatch_metric_alarm" "service_down" {
  for_each            = toset(var.pipeline_services)
  alarm_name          = "${var.name_prefix}-${each.value}-not-running"
  alarm_description   = "ECS service ${each.value} has had no running task for 10 minutes."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    ClusterName = var.cluster_name
    ServiceName = each.value
  }
}

# --- Database ------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "database_cpu" {
  alarm_name          = "${var.name_prefix}-database-cpu"
  alarm_description   = "Database CPU above 80% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    DBInstanceIdentifier = var.database_instance_id
  }
}

resource "aws_cloudwatch_metric_alarm" "database_storage" {
  alarm_name          = "${var.name_prefix}-database-free-storage"
  alarm_description   = "Database free storage below ${var.database_free_storage_threshold_gb} GiB."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.database_free_storage_threshold_gb * 1024 * 1024 * 1024
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dimensions = {
    DBInstanceIdentifier = var.database_instance_id
  }
}
