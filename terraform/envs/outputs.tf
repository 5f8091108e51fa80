output "web_url" {
  description = "URL of the web UI."
  value       = module.frontend.url
}

output "web_bucket" {
  description = "Bucket to sync frontend/dist into."
  value       = module.frontend.bucket_name
}

output "web_distribution_id" {
  description = "CloudFront distribution to invalidate after a UI deploy."
  value       = module.frontend.distribution_id
}

output "api_endpoint" {
  description = "Base URL of the API (VITE_API_BASE_URL for the UI build)."
  value       = module.api.api_endpoint
}

output "api_tokens_secret_arn" {
  description = "Secret to put the API write tokens into."
  value       = module.api.api_tokens_secret_arn
}

output "ecr_repositories" {
  description = "ECR repository URLs of the api and pipeline images."
  value       = module.registry.repository_urls
}

output "database_address" {
  description = "Private address of the database."
  value       = module.database.address
}

output "database_secret_arn" {
  description = "RDS-managed secret with the database master credentials."
  value       = module.database.master_user_secret_arn
}

output "pulsar_url" {
  description = "Pulsar URL used by the pipeline."
  value       = module.pipeline.pulsar_url
}

output "ecs_cluster" {
  description = "ECS cluster of the pipeline."
  value       = module.pipeline.cluster_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.alarm_topic_arn
}

output "private_subnet_ids" {
  description = "Private subnets (for one-off ECS tasks such as migrations)."
  value       = module.network.private_subnet_ids
}

output "pipeline_security_group_id" {
  description = "Security group of the pipeline tasks (for one-off ECS tasks)."
  value       = module.pipeline.tasks_security_group_id
}
