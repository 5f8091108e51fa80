# RDS PostgreSQL in the isolated database subnets. Not publicly accessible,
# encrypted with the environment key, TLS enforced, master password generated and
# rotated by RDS in Secrets Manager (manage_master_user_password).
#
# The security group has no rules of its own: each client module (api, pipeline)
# adds one ingress rule from its own security group on the database port.

data "aws_partition" "current" {}

locals {
  identifier     = "${var.name_prefix}-postgres"
  engine_major   = split(".", var.engine_version)[0]
  port           = 5432
  log_group_base = "/aws/rds/instance/${var.name_prefix}-postgres"
}

resource "aws_db_subnet_group" "this" {
  name        = local.identifier
  description = "Isolated subnets for ${local.identifier}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "this" {
  name        = local.identifier
  description = "PostgreSQL: ingress only from the client security groups added by the api and pipeline modules"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = local.identifier })
}

resource "aws_db_parameter_group" "this" {
  name        = "${local.identifier}-pg${local.engine_major}"
  family      = "postgres${local.engine_major}"
  description = "streamscope PostgreSQL ${local.engine_major}: TLS only, slow-query and DDL logging"
  tags        = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# RDS creates these groups itself when logs are exported, without retention or a
# key; creating them first keeps both under control.
resource "aws_cloudwatch_log_group" "postgres" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (log_retention_days, validated; 14 days in dev, 90 in prod); these are operational logs, the lasting data is in Postgres.
  for_each          = toset(["postgresql", "upgrade"])
  name              = "${local.log_group_base}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count              = var.monitoring_interval > 0 ? 1 : 0
  name               = "${local.identifier}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count      = var.monitoring_interval > 0 ? 1 : 0
  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_293:Set by deletion_protection: true in prod (the default), false only in the throw-away dev environment.
  #checkov:skip=CKV_AWS_157:Set by multi_az: true in prod; dev runs a single instance to halve the cost.
  #checkov:skip=CKV_AWS_353:Set by performance_insights_enabled: true in prod; dev's db.t4g.micro does not support it.
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  port           = local.port

  db_name                       = var.database_name
  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb == 0 ? null : var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false
  apply_immediately                   = false

  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = var.skip_final_snapshot ? null : "${local.identifier}-final"

  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? var.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? var.performance_insights_retention_days : null
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.postgres]
}
