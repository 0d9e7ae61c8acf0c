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
downloads: 8           # attachment downloads in flight at once

output:
  dir: ./backups
  # Retention (restic-style): keep the newest N, then one per hour/day/week/month/year.
  # keep: { last: 7, daily: 14, weekly: 8, monthly: 12 }

# Optional: upload archives to S3-compatible storage (AWS S3, R2, Spaces, MinIO...).
# s3:
#   endpoint: https://s3.eu-west-1.amazonaws.com
#   region: eu-west-1
#   bucket: my-airtable-backups
#   prefix: airbackup/
#   accessKeyId: \${AWS_ACCESS_KEY_ID}
#   secretAccessKey: \${AWS_SECRET_ACCESS_KEY}
`;
