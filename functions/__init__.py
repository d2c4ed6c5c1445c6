"""Lambda function code: each folder is one function, packaged alone (standard library and boto3 only)."""
