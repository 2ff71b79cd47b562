import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin, type AclEntry } from 'kafkajs';

/**
 * The least-privilege Kafka ACLs of the pipeline, one principal per process role: each gets what
 * its process does and nothing else (docs/security.md renders this table). Topics are created by
 * an admin principal beforehand; no pipeline principal may create, delete or alter anything.
 */

export type KafkaRole = 'producer' | 'api' | 'consumer' | 'verify';

export interface PipelineNames {
  topic: string;
  dlqTopic: string;
  groupId: string;
}

export interface AclGrant {
  role: KafkaRole;
  resource: 'topic' | 'group';
  /** A literal name, or a prefix when `prefixed`. */
  name: string;
  prefixed: boolean;
  operation: 'READ' | 'WRITE' | 'DESCRIBE';
  why: string;
}

/** verify reads the topics with throw-away consumer groups named by this prefix (src/verify/kafkaRead.ts). */
export const VERIFY_GROUP_PREFIX = 'ledgerflow-verify-';

export function pipelineAcls(n: PipelineNames): AclGrant[] {
  const g = (role: KafkaRole, resource: AclGrant['resource'], name: string, operation: AclGrant['operation'], why: string, prefixed = false): AclGrant => ({
    role, resource, name, prefixed, operation, why,
  });
  return [
    // Write on a topic also lets an idempotent producer get its producer id (Kafka 3.0+, KIP-679).
    g('producer', 'topic', n.topic, 'WRITE', 'produce transactions (idempotent, acks=all)'),
    g('api', 'topic', n.topic, 'WRITE', 'HTTP ingest produces transactions'),
    g('api', 'topic', n.dlqTopic, 'DESCRIBE', 'live page: DLQ size (offsets only, never the content)'),
    g('api', 'group', n.groupId, 'DESCRIBE', 'live page: consumer lag (committed offsets)'),
    g('consumer', 'topic', n.topic, 'READ', 'consume transactions'),
    g('consumer', 'group', n.groupId, 'READ', 'join the group, commit offsets'),
    g('consumer', 'topic', n.dlqTopic, 'WRITE', 'park malformed events with their reason'),
    g('verify', 'topic', n.topic, 'READ', 'read every event to compare with the database'),
    g('verify', 'topic', n.dlqTopic, 'READ', 'check each malformed event is in the DLQ'),
    g('verify', 'group', n.groupId, 'DESCRIBE', "wait for the pipeline's committed offsets"),
    g('verify', 'group', VERIFY_GROUP_PREFIX, 'READ', 'its own throw-away reading groups', true),
  ];
}

/** The kafkajs form of the grants for principals named by `principalOf(role)`. */
export function aclEntries(grants: AclGrant[], principalOf: (role: KafkaRole) => string): AclEntry[] {
  return grants.map((a) => ({
    resourceType: a.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: a.name,
    resourcePatternType: a.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: `User:${principalOf(a.role)}`,
    host: '*',
    operation: AclOperationTypes[a.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Grants the pipeline's ACLs (Kafka keeps one copy of a binding created twice: idempotent). */
export async function grantPipelineAcls(admin: Admin, names: PipelineNames, principalOf: (role: KafkaRole) => string): Promise<void> {
  await admin.createAcls({ acl: aclEntries(pipelineAcls(names), principalOf) });
}

/**
 * Removes the grants on these names (a scratch run's, once its topics are gone); the grant on the
 * verify group prefix is shared by every pipeline and stays.
 */
export async function revokePipelineAcls(admin: Admin, names: PipelineNames, principalOf: (role: KafkaRole) => string): Promise<void> {
  const own = pipelineAcls(names).filter((a) => !a.prefixed);
  await admin.deleteAcls({ filters: aclEntries(own, principalOf) });
}

/** docs/security.md's table of principal → resource → operation (a unit test keeps the doc in sync). */
export function aclMarkdown(principalOf: (role: KafkaRole) => string): string {
  const rows = pipelineAcls({ topic: 'transactions', dlqTopic: 'transactions.dlq', groupId: 'ledgerflow' }).map(
    (a) => `| \`${principalOf(a.role)}\` | ${a.resource} \`${a.name}\`${a.prefixed ? ' (prefix)' : ''} | ${a.operation} | ${a.why} |`,
  );
  return ['| principal | resource | operation | why |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
