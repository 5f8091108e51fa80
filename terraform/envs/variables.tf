# Variables of the one environment root; dev.tfvars and prod.tfvars set them.

variable "region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name such as eu-west-1."
  }
}

variable "environment" {
  description = "Environment name, part of every resource name (dev, staging or prod)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be dev, staging or prod."
  }
}

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "streamscope"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "The project must be 2-21 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "extra_tags" {
  description = "Tags added to every resource besides Project, Environment and ManagedBy (e.g. CostCenter)."
  type        = map(string)
  default     = {}
}

# --- network ---------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC (/16 to /24)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "The vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "az_count" {
  description = "Number of availability zones (2-4)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "The az_count must be from 2 to 4."
  }
}

variable "nat_gateway_mode" {
  description = "NAT for private subnets: none, single or per_az (readers need internet egress to fetch streams)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be none, single or per_az."
  }
}

variable "interface_endpoint_services" {
  description = "Interface VPC endpoints to create; must include secretsmanager (the API Lambda has no internet egress)."
  type        = list(string)
  default     = ["secretsmanager"]

  validation {
    condition     = contains(var.interface_endpoint_services, "secretsmanager")
    error_message = "The interface_endpoint_services must include secretsmanager."
  }
}

# --- database ----------------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.", var.db_instance_class))
    error_message = "The db_instance_class must start with \"db.\"."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major (or major.minor) version."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "The db_engine_version must be PostgreSQL 14 to 19."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial database storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gb >= 20
    error_message = "The db_allocated_storage_gb must be at least 20."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling limit in GiB (0 = off)."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage_gb == 0 || var.db_max_allocated_storage_gb >= 20
    error_message = "The db_max_allocated_storage_gb must be 0 or at least 20."
  }
}

variable "db_multi_az" {
  description = "Run a standby database in a second AZ."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "The db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_deletion_protection" {
  description = "Protect the database from deletion (true in prod)."
  type        = bool
  default     = true
}

variable "db_skip_final_snapshot" {
  description = "Skip the final snapshot on destroy (dev only)."
  type        = bool
  default     = false
}

variable "db_performance_insights_enabled" {
  description = "Turn on Performance Insights (not on db.t4g.micro/small)."
  type        = bool
  default     = true
}

# --- images ----------------------------------------------------------------------------

variable "api_image_tag" {
  description = "Tag of the API image in the api ECR repository (e.g. the git commit). Pass with -var at deploy time."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.api_image_tag))
    error_message = "The api_image_tag must be a valid Docker tag."
  }
}

variable "pipeline_image_tag" {
  description = "Tag of the pipeline image in the pipeline ECR repository. Pass with -var at deploy time."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.pipeline_image_tag))
    error_message = "The pipeline_image_tag must be a valid Docker tag."
  }
}

# --- api -------------------------------------------------------------------------------

variable "api_memory_mb" {
  description = "Memory of the API Lambda in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.api_memory_mb >= 128 && var.api_memory_mb <= 10240
    error_message = "The api_memory_mb must be between 128 and 10240."
  }
}

variable "api_reserved_concurrency" {
  description = "Reserved (and maximum) concurrency of the API Lambda; bounds database connections."
  type        = number
  default     = 20

  validation {
    condition     = var.api_reserved_concurrency >= 1
    error_message = "The api_reserved_concurrency must be at least 1."
  }
}

variable "api_extra_cors_origins" {
  description = "Origins allowed to call the API besides the web UI's own (e.g. http://localhost:5173 in dev)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.api_extra_cors_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "Each origin must be scheme://host[:port], without path or wildcard."
  }
}

# --- web UI ----------------------------------------------------------------------------

variable "web_price_class" {
  description = "CloudFront price class of the web UI."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.web_price_class)
    error_message = "The web_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "web_aliases" {
  description = "Custom domain names of the web UI (needs web_acm_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "web_acm_certificate_arn" {
  description = "ACM certificate (us-east-1) for web_aliases; empty for the default CloudFront name."
  type        = string
  default     = ""
}

variable "web_acl_arn" {
  description = "WAFv2 web ACL (scope CLOUDFRONT) for the web UI; empty for none."
  type        = string
  default     = ""
}

variable "web_access_logs" {
  description = "Keep CloudFront and S3 access logs of the web UI."
  type        = bool
  default     = true
}

variable "web_force_destroy" {
  description = "Let destroy empty the web buckets (dev only)."
  type        = bool
  default     = false
}

# --- pipeline --------------------------------------------------------------------------

variable "service_sizes" {
  description = "CPU units, memory (MiB) and task count of detector, aggregator and airflow."
  type = map(object({
    cpu           = number
    memory        = number
    desired_count = number
  }))
  default = {
    detector   = { cpu = 2048, memory = 4096, desired_count = 1 }
    aggregator = { cpu = 512, memory = 1024, desired_count = 1 }
    airflow    = { cpu = 1024, memory = 4096, desired_count = 1 }
  }
}

variable "detector_launch_type" {
  description = "FARGATE (CPU) or EC2_GPU (GPU auto-scaling group) for the detector."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "EC2_GPU"], var.detector_launch_type)
    error_message = "The detector_launch_type must be FARGATE or EC2_GPU."
  }
}

variable "detector_device" {
  description = "STREAMSCOPE_DETECTOR_DEVICE: auto, cpu or cuda:N."
  type        = string
  default     = "auto"

  validation {
    condition     = can(regex("^(auto|cpu|cuda:[0-9]+)$", var.detector_device))
    error_message = "The detector_device must be auto, cpu or cuda:N."
  }
}

variable "gpu_instance_type" {
  description = "GPU instance type when detector_launch_type is EC2_GPU."
  type        = string
  default     = "g4dn.xlarge"
}

variable "gpu_max_instances" {
  description = "Maximum GPU instances when detector_launch_type is EC2_GPU."
  type        = number
  default     = 2
}

variable "pulsar_mode" {
  description = "self_managed (Pulsar standalone on ECS + EFS) or external (pulsar_url)."
  type        = string
  default     = "self_managed"

  validation {
    condition     = contains(["self_managed", "external"], var.pulsar_mode)
    error_message = "The pulsar_mode must be self_managed or external."
  }
}

variable "pulsar_url" {
  description = "External broker URL (pulsar://host:6650 or pulsar+ssl://host:6651) when pulsar_mode is external."
  type        = string
  default     = ""
}

variable "pulsar_egress_cidrs" {
  description = "CIDR blocks of the external Pulsar cluster."
  type        = list(string)
  default     = []
}

variable "metrics_scraper_cidrs" {
  description = "Allow-list of networks that may scrape the Prometheus ports 9101-9103 (never 0.0.0.0/0)."
  type        = list(string)
  default     = []
}

variable "airflow_ui_allowed_cidrs" {
  description = "Allow-list of networks (VPN, bastion) that may open the Airflow UI (never 0.0.0.0/0)."
  type        = list(string)
  default     = []
}

variable "stream_egress_ports" {
  description = "TCP ports readers may open to stream hosts on the internet."
  type        = list(number)
  default     = [80, 443]
}

# --- logs and alarms -------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days to keep application, API, database and flow logs in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses that receive alarms."
  type        = list(string)
  default     = []
}

variable "backlog_topics" {
  description = "Pulsar topics whose backlog is alarmed on."
  type        = list(string)
  default     = ["persistent://public/default/streamscope-frames", "persistent://public/default/streamscope-detections"]
}

variable "backlog_threshold" {
  description = "Backlog (messages) above which a topic alarms."
  type        = number
  default     = 5000
}

variable "api_5xx_threshold" {
  description = "5xx responses per 5 minutes above which the API alarms."
  type        = number
  default     = 5
}
