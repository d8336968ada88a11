namespace OrleansVncCluster.Relay.Audit;

/// <summary>One record write waiting in the node's queue.</summary>
/// <param name="Record">The whole record as it stands (every write is a complete upsert, so a lost earlier write is healed by a later one).</param>
/// <param name="Stage">Which write it is.</param>
public readonly record struct AuditWrite(AuditRecord Record, AuditStage Stage);
