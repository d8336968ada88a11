using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>The stored form of a record: the API's JSON (the names are on <see cref="AuditRecord"/>), source-generated.</summary>
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
