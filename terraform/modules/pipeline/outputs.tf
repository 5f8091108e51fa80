output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS services meant to be running (desired count above 0), pulsar included when self-managed; known at plan time."
  value       = concat([for s in local.app_services : s if local.sizes[s].desired_count > 0], local.self_managed_pulsar ? ["pulsar"] : [])
}

output "pulsar_url" {
  description = "Pulsar URL the pipeline uses (STREAMSCOPE_PULSAR_URL)."
  value       = local.pulsar_url
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the Pulsar backlog metrics."
  value       = var.metrics_namespace
}

output "tasks_security_group_id" {
  description = "Security group of the pipeline tasks."
  value       = aws_security_group.tasks.id
}

output "log_group_names" {
  description = "Log groups of the pipeline services."
  value       = [for g in aws_cloudwatch_log_group.service : g.name]
}
