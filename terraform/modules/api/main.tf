# The FastAPI app on Lambda (Mangum handler api.lambda_handler.handler, container
# image from ECR) behind an API Gateway HTTP API.
#
# Its role may read exactly two secrets (the database's and the API write
# tokens') and its security group may reach exactly the database and the
# Secrets Manager VPC endpoint.

data "aws_partition" "current" {}

locals {
  function_name = "${var.name_prefix}-api"
  database_url  = "postgresql://${var.database_username}@${var.database_address}:${var.database_port}/${var.database_name}?sslmode=require"
}

# --- Secrets ---------------------------------------------------------------------

# Write tokens for the API (comma-separated, STREAMSCOPE_API_TOKENS). Terraform
# creates the secret but never its value: put it with
#   aws secretsmanager put-secret-value --secret-id <arn> --secret-string 'tok1,tok2'
resource "aws_secretsmanager_secret" "api_tokens" {
  #checkov:skip=CKV2_AWS_57:Static bearer tokens handed to clients; rotating them is an operator step (put-secret-value) documented in docs/deploy.md, not a Lambda rotation.
  name                    = "${var.name_prefix}/api-tokens"
  description             = "streamscope API write tokens, comma-separated (STREAMSCOPE_API_TOKENS)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

# --- Network -----------------------------------------------------------------------

resource "aws_security_group" "function" {
  name        = local.function_name
  description = "API Lambda: egress to the database and the Secrets Manager endpoint only; no ingress"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = local.function_name })
}

resource "aws_vpc_security_group_egress_rule" "to_database" {
  security_group_id            = aws_security_group.function.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  security_group_id            = aws_security_group.function.id
  description                  = "HTTPS to the interface VPC endpoints (Secrets Manager)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.endpoints_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_function" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the API Lambda"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = aws_security_group.function.id
}

# --- IAM ---------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "function" {
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.database_secret_arn, aws_secretsmanager_secret.api_tokens.arn]
  }

  statement {
    sid       = "DecryptSecretsAndEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role" "function" {
  name               = local.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "function" {
  name   = "secrets-and-logs"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# Network interfaces in the VPC (AWS-managed; the EC2 ENI actions cannot be
# scoped to resources) and X-Ray traces.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# --- Function ------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (log_retention_days, validated; 14 days in dev, 90 in prod); these are operational logs, the lasting data is in Postgres.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations and would never receive anything.
  #checkov:skip=CKV_AWS_272:Lambda code signing applies to .zip packages only; this function is a container image (ECR scan on push and immutable tags instead).
  function_name = local.function_name
  description   = "streamscope FastAPI app (Mangum)"
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = "${var.image_repository_url}:${var.image_tag}"
  architectures = [var.architecture]
  memory_size   = var.memory_mb
  timeout       = var.timeout_seconds
  kms_key_arn   = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrency

  image_config {
    command = ["api.lambda_handler.handler"]
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.function.id]
  }

  tracing_config {
    mode = "Active"
  }

  environment {
    variables = merge(var.extra_environment, {
      # No password in the URL: the app reads it from the secret at start-up.
      STREAMSCOPE_DATABASE_URL          = local.database_url
      STREAMSCOPE_DATABASE_SECRET_ARN   = var.database_secret_arn
      STREAMSCOPE_API_TOKENS_SECRET_ARN = aws_secretsmanager_secret.api_tokens.arn
      STREAMSCOPE_CORS_ORIGINS          = join(",", var.cors_origins)
    })
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.function,
    aws_iam_role_policy.function,
    aws_iam_role_policy_attachment.vpc_access,
  ]
}

# --- HTTP API --------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (log_retention_days, validated; 14 days in dev, 90 in prod); these are operational logs, the lasting data is in Postgres.
  name              = "/streamscope/${var.name_prefix}/api-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_api" "this" {
  name          = local.function_name
  description   = "streamscope HTTP API"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.timeout_seconds * 1000
}

resource "aws_apigatewayv2_route" "default" {
  #checkov:skip=CKV_AWS_309:Reads are public by design; writes are checked in the app against the bearer tokens in Secrets Manager (STREAMSCOPE_API_TOKENS).
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true
  tags        = var.tags

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationError   = "$context.integrationErrorMessage"
      integrationLatency = "$context.integrationLatency"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
