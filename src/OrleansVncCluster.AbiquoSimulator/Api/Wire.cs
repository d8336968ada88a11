using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansVncCluster.AbiquoSimulator.Api;

// The JSON the simulator sends, written from docs/reference (Abiquo 3.10 examples), field names spelled exactly as
// Abiquo spells them. These types are deliberately not shared with the relay's client, so the client's tests check
// the documented contract instead of agreeing with themselves.

/// <summary>A link: <c>{"href", "rel", "type"?, "title"?}</c>.</summary>
public sealed record LinkJson(
    [property: JsonPropertyName("href")] string Href,
    [property: JsonPropertyName("rel")] string Rel,
    [property: JsonPropertyName("type")] string? Type = null,
    [property: JsonPropertyName("title")] string? Title = null);

/// <summary>The collection envelope; <c>totalSize</c> is absent on the per-enterprise VM list.</summary>
public sealed record CollectionJson<T>(
    [property: JsonPropertyName("totalSize")] int? TotalSize,
    [property: JsonPropertyName("links")] IReadOnlyList<LinkJson> Links,
    [property: JsonPropertyName("collection")] IReadOnlyList<T> Collection);

/// <summary>An enterprise (a subset of Abiquo's fields).</summary>
public sealed record EnterpriseJson(
    [property: JsonPropertyName("links")] IReadOnlyList<LinkJson> Links,
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("isReservationRestricted")] bool IsReservationRestricted,
    [property: JsonPropertyName("workflow")] bool Workflow,
    [property: JsonPropertyName("cpuCountSoftLimit")] int CpuCountSoftLimit,
    [property: JsonPropertyName("cpuCountHardLimit")] int CpuCountHardLimit);

/// <summary>A virtual machine. <c>vdrpIP</c> and <c>password</c> are omitted when unset, as Abiquo does.</summary>
public sealed record VirtualMachineJson
{
    [JsonPropertyName("links")] public required IReadOnlyList<LinkJson> Links { get; init; }
    [JsonPropertyName("id")] public int Id { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("label")] public string? Label { get; init; }
    [JsonPropertyName("uuid")] public required string Uuid { get; init; }
    [JsonPropertyName("state")] public required string State { get; init; }
    [JsonPropertyName("idState")] public int IdState { get; init; }
    [JsonPropertyName("vdrpIP")] public string? VdrpIP { get; init; }
    [JsonPropertyName("vdrpPort")] public int VdrpPort { get; init; }
    [JsonPropertyName("vdrpEnabled")] public bool VdrpEnabled { get; init; }
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("type")] public string Type { get; init; } = "MANAGED";
    [JsonPropertyName("cpu")] public int Cpu { get; init; }
    [JsonPropertyName("ram")] public int Ram { get; init; }
    [JsonPropertyName("highDisponibility")] public int HighDisponibility { get; init; }
}

/// <summary>The current user, as <c>/login</c> returns it.</summary>
public sealed record UserJson(
    [property: JsonPropertyName("links")] IReadOnlyList<LinkJson> Links,
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("nick")] string Nick,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("surname")] string Surname,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("active")] bool Active,
    [property: JsonPropertyName("locale")] string Locale,
    [property: JsonPropertyName("authType")] string AuthType);

/// <summary>One error of an <c>errors</c> collection.</summary>
public sealed record ErrorJson(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("links")] IReadOnlyList<LinkJson> Links);

/// <summary>Source-generated serializers: serializing 100,000 VMs must not be the simulator's bottleneck.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CollectionJson<EnterpriseJson>))]
[JsonSerializable(typeof(CollectionJson<VirtualMachineJson>))]
[JsonSerializable(typeof(CollectionJson<ErrorJson>))]
[JsonSerializable(typeof(EnterpriseJson))]
[JsonSerializable(typeof(UserJson))]
public sealed partial class WireJsonContext : JsonSerializerContext
{
    /// <summary>Like <see cref="Default"/>, but writes quotes and <c>+</c> in messages as themselves, as Java servers do.</summary>
    public static WireJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
