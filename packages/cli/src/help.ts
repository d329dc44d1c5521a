// The --help text of every command. Kept in one place so that the wording stays consistent.

const CONNECTION = `Connection:
  --broker URL     the broker (default: $MINIKAFKA_BROKER, else http://127.0.0.1:8000)
  --token TOKEN    sent as "Authorization: Bearer TOKEN" (default: $MINIKAFKA_TOKEN)
  -h, --help       this help`;

/** Help texts by command path ("" is the top level). */
export const HELP: Readonly<Record<string, string>> = {
  "": `minikafka: a kcat-style command line for a minikafka broker

Usage: minikafka <command> [options]

Commands:
  topics list | describe NAME | create NAME --partitions N | add-partitions NAME N | delete NAME
  produce TOPIC      one record per input line, from stdin or --file
  consume TOPIC      print records, in a group (--group) or from given offsets
  groups list | describe GROUP | delete GROUP | reset-offsets GROUP --topic T --to-… 

Run "minikafka <command> --help" for a command's options.
Exit status: 0 on success, 1 when the broker refused or could not be reached, 2 for a bad command line.

${CONNECTION}
  --version        the CLI's version`,

  topics: `Usage: minikafka topics <list | describe | create | add-partitions | delete> …

  minikafka topics list                                   names of all topics
  minikafka topics describe NAME                          partitions, offsets, sizes, settings
  minikafka topics create NAME --partitions N [--retention-ms MS]
  minikafka topics add-partitions NAME N                  adds N partitions (never removes any)
  minikafka topics delete NAME                            deletes the topic, its records and offsets

${CONNECTION}`,

  "topics list": `Usage: minikafka topics list [--json]

Prints the names of all topics, one per line, sorted.

Options:
  --json           one JSON array of topic descriptions instead

${CONNECTION}`,

  "topics describe": `Usage: minikafka topics describe NAME [--json]

Prints the topic's settings and, per partition, its log start offset, high watermark, log end offset
and stored bytes; in a cluster also its replication factor and minimum ISR and, per partition, its leader,
replicas and in-sync replicas (node ids).

Options:
  --json           the description as one JSON object

${CONNECTION}`,

  "topics create": `Usage: minikafka topics create NAME --partitions N [--replication-factor N] [--min-insync-replicas N]
                              [--retention-ms MS] [--if-not-exists] [--json]

Creates a topic. Fails (exit 1) if it already exists, unless --if-not-exists.

Options:
  --partitions N            number of partitions (required, ≥ 1)
  --replication-factor N    copies of each partition on distinct brokers (cluster mode; default 1)
  --min-insync-replicas N   fewest in-sync replicas a produce is accepted with (cluster mode; default 1)
  --retention-ms MS         delete records older than this (default: the broker's setting)
  --if-not-exists           succeed, changing nothing, when the topic exists
  --json                    the new topic's description as one JSON object

${CONNECTION}`,

  "topics add-partitions": `Usage: minikafka topics add-partitions NAME N [--json]

Adds N partitions to the topic (N ≥ 1; partitions are never removed). Keyed records hash over the new
partition count from then on.

Options:
  --json           the topic's description afterwards as one JSON object

${CONNECTION}`,

  "topics delete": `Usage: minikafka topics delete NAME

Deletes the topic with its records and the committed offsets of every group in it.

${CONNECTION}`,

  produce: `Usage: minikafka produce TOPIC [--file F] [--key-separator SEP] [--partition P] [--json]

Sends one record per input line (the line without its newline), from stdin or --file, in batches, and
exits once every record is stored durably. A line without SEP has no key.
On a terminal, progress goes to stderr (records/s, sent/total); nothing when stderr is piped.

Options:
  --file F             read lines from the file F instead of stdin
  --key-separator SEP  split each line at the first SEP: key before it, value after it
  --partition P        send every record to partition P (default: by key, sticky without one)
  --json               print {"topic","records"} when done

${CONNECTION}`,

  consume: `Usage: minikafka consume TOPIC [--group G] [--from-beginning] [--partition P [--offset O]]
                         [--max-messages N] [--format FMT | --json]

Prints records as they arrive, until Ctrl-C or --max-messages. With --group, reads as a member of
consumer group G: where the group left off, sharing partitions with its other members, and commits
exactly the records it printed (also on Ctrl-C). Without --group, reads without committing anything,
from the end of each partition (records produced from now on).

Options:
  --group G          consume as a member of group G
  --from-beginning   start at the first stored record (with --group: where G has committed nothing)
  --partition P      read only partition P (not with --group)
  --offset O         with --partition: start at offset O
  --max-messages N   exit after printing N records
  --format FMT       kcat's format string (default: '%s\\n'); a newline is added unless FMT ends with one
                       %s value  %S value length (-1 for null)  %R value length as a 4-byte big-endian int
                       %k key    %K key length (-1 for null)    %h headers (name=value,…)
                       %t topic  %p partition  %o offset  %T timestamp (ms since the epoch)  %% a percent sign
                       \\n \\r \\t \\\\ and \\xHH (a byte in hex) as escapes
  --json             one JSON object per record: {"topic","partition","offset","timestamp","key","value","headers"}

${CONNECTION}`,

  groups: `Usage: minikafka groups <list | describe | delete | reset-offsets> …

  minikafka groups list                        consumer groups with state and member count
  minikafka groups describe GROUP              members, assignments, committed offsets, lag
  minikafka groups delete GROUP                deletes a group without members and its committed offsets
  minikafka groups reset-offsets GROUP --topic T (--to-earliest | --to-latest | --to-offset O)

${CONNECTION}`,

  "groups list": `Usage: minikafka groups list [--json]

Prints the consumer groups the broker knows (since it started): id, state, members.

Options:
  --json           one JSON array instead

${CONNECTION}`,

  "groups describe": `Usage: minikafka groups describe GROUP [--json]

Prints the group's state, its members with their assignments, and per partition the committed offset,
high watermark, lag and owner. Fails (exit 1) for a group the broker does not know.

Options:
  --json           the description as one JSON object

${CONNECTION}`,

  "groups delete": `Usage: minikafka groups delete GROUP

Deletes the consumer group and its committed offsets. Only for a group without members: stop its
consumers first (the broker answers NON_EMPTY_GROUP otherwise). Fails (exit 1) for a group the broker
does not know.

${CONNECTION}`,

  "groups reset-offsets": `Usage: minikafka groups reset-offsets GROUP --topic T (--to-earliest | --to-latest | --to-offset O)
                                    [--partition P] [--json]

Moves the group's committed offsets in topic T (every partition, or only P). Only for a group without
members: stop its consumers first. Prints the new offsets.

Options:
  --topic T        the topic (required)
  --to-earliest    to the first stored record
  --to-latest      to the end (skip everything stored so far)
  --to-offset O    to offset O
  --partition P    only partition P
  --json           the new offsets as one JSON array

${CONNECTION}`,
};
