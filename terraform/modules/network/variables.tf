variable "name_prefix" {
  description = "Prefix for every resource name, e.g. \"streamscope-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, a /16 to /24. Each tier (public, private, database) gets one /(n+4) subnet per availability zone."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "The vpc_cidr must be a valid IPv4 CIDR block between /16 and /24."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over (2-4; RDS needs at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "The az_count must be a whole number from 2 to 4."
  }
}

variable "nat_gateway_mode" {
  description = "Internet egress for private subnets: \"none\" (VPC endpoints only; stream readers then cannot reach YouTube), \"single\" (one NAT gateway, cheaper, one-AZ failure domain) or \"per_az\" (one NAT gateway per AZ)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "interface_endpoint_services" {
  description = "AWS services reached through interface VPC endpoints (about 7 USD per endpoint per AZ per month). \"secretsmanager\" is needed by the API Lambda, which has no internet egress."
  type        = list(string)
  default     = ["secretsmanager"]

  validation {
    condition = alltrue([
      for s in var.interface_endpoint_services : contains(["secretsmanager", "ecr.api", "ecr.dkr", "logs", "sts", "ssm", "ssmmessages", "ec2messages", "monitoring", "elasticfilesystem"], s)
    ])
    error_message = "Each interface_endpoint_services entry must be one of secretsmanager, ecr.api, ecr.dkr, logs, sts, ssm, ssmmessages, ec2messages, monitoring, elasticfilesystem."
  }

  validation {
    condition     = contains(var.interface_endpoint_services, "secretsmanager")
    error_message = "The interface_endpoint_services must include \"secretsmanager\": the API Lambda reads its secrets through it."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "The flow_log_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
  }
}

variable "flow_log_traffic_type" {
  description = "Which traffic VPC flow logs record: \"REJECT\" (cheap, shows blocked attempts) or \"ALL\"."
  type        = string
  default     = "REJECT"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "The flow_log_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
