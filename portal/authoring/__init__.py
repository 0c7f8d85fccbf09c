"""The independent author's work: contribution requests, the inbox, drafts of the report and the anonymisation gate."""
