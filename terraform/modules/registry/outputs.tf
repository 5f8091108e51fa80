output "repository_urls" {
  description = "Map of short name to repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  description = "Map of short name to repository ARN."
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}
