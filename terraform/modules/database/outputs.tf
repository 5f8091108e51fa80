output "instance_id" {
  description = "RDS instance identifier (for CloudWatch dimensions)."
  value       = aws_db_instance.this.identifier
}

output "address" {
  description = "Private DNS name of the database."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Database port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Application database name."
  value       = aws_db_instance.this.db_name
}

output "master_username" {
  description = "Master user name (the password is only in the Secrets Manager secret)."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding {\"username\", \"password\"}."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the database; clients add ingress rules from their own group."
  value       = aws_security_group.this.id
}
