output "alarm_topic_arn" {
  description = "SNS topic the alarms notify; subscribe chat or paging tools to it."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of all alarms of this module."
  value = concat(
    [aws_cloudwatch_metric_alarm.api_5xx.alarm_name, aws_cloudwatch_metric_alarm.api_lambda_errors.alarm_name, aws_cloudwatch_metric_alarm.api_lambda_throttles.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.backlog : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.service_down : a.alarm_name],
    [aws_cloudwatch_metric_alarm.database_cpu.alarm_name, aws_cloudwatch_metric_alarm.database_storage.alarm_name],
  )
}
