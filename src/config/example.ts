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
  keepLocal: true      # false: remove the local archive once its S3 upload is confirmed
  # Retention, restic-style, per base: the newest archive of each of the last N hours/days/ISO weeks/
  # months/years (UTC) is kept, plus the \`last\` N; an archive kept by any rule stays.
  keep: { last: 7, daily: 14, weekly: 8, monthly: 12 }   # also hourly, yearly

prune: false           # true: apply output.keep to each base right after its backup succeeded (and upload)

# Upload each verified archive to S3-compatible storage (AWS S3, R2, Spaces, MinIO...).
# Keys left out here come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
# s3:
#   endpoint: https://s3.eu-west-1.amazonaws.com
#   region: eu-west-1
#   bucket: my-airtable-backups
#   prefix: airbackup/
#   pathStyle: false   # true for MinIO and most self-hosted stores
#   accessKeyId: \${AWS_ACCESS_KEY_ID}
#   secretAccessKey: \${AWS_SECRET_ACCESS_KEY}
`;
