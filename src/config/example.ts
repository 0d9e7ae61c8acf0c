// The commented example config written by `airbackup init`; a test keeps it valid against the schema.

export const EXAMPLE_CONFIG = `# airbackup configuration. Docs: see README.md ("Configuration").
# \${VAR} is read from the environment when airbackup runs; secrets are never logged.

# Personal access token with scopes data.records:read and schema.bases:read
# (add data.records:write and schema.bases:write for restore).
token: \${AIRTABLE_TOKEN}

# Which bases to back up. Omit to back up every base the token can read.
# bases:
#   - id: appXXXXXXXXXXXXXX
#     tables: [Contacts, tblYYYYYYYYYYYYYY]   # names or ids; default: every table

attachments: true      # download attachment files into the archive
comments: false        # true: also back up record comments (one extra call per commented record)
downloads: 8           # attachment downloads in flight at once, per base
concurrency:
  bases: 4             # bases backed up at once (1-16), all within the token's 50 requests/s

output:
  dir: ./backups

# Retention (keep:, prune) and S3 upload (s3:) are not supported yet in this version; the config
# refuses them. Delete old archives and copy them off-site with your own tools for now.
`;
