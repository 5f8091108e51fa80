output "api_endpoint" {
  description = "Base URL of the HTTP API (https://<id>.execute-api.<region>.amazonaws.com)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_id" {
  description = "Id of the HTTP API (CloudWatch dimension ApiId)."
  value       = aws_apigatewayv2_api.this.id
}

output "stage_name" {
  description = "Stage name of the HTTP API."
  value       = aws_apigatewayv2_stage.default.name
}

output "function_name" {
  description = "Name of the API Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "security_group_id" {
  description = "Security group of the function."
  value       = aws_security_group.function.id
}

output "api_tokens_secret_arn" {
  description = "ARN of the secret to put the API write tokens into."
  value       = aws_secretsmanager_secret.api_tokens.arn
}

output "log_group_names" {
  description = "Log groups of the function and of the API access log."
  value       = [aws_cloudwatch_log_group.function.name, aws_cloudwatch_log_group.access.name]
}
