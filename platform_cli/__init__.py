"""mlplatform: the commands people run against a deployed platform (boto3 at run time, never at synth)."""
