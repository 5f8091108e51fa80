output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (NAT gateways only)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets for ECS tasks and the API Lambda."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Isolated subnets for RDS (no internet route)."
  value       = aws_subnet.database[*].id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints (HTTPS from the VPC)."
  value       = aws_security_group.endpoints.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint, for security group egress rules."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "has_internet_egress" {
  description = "Whether private subnets route to the internet through NAT."
  value       = var.nat_gateway_mode != "none"
}
