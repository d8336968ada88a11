using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>Reads a string property through <see cref="AbiquoSharedStrings"/>.</summary>
internal sealed class AbiquoSharedStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => AbiquoSharedStrings.Read(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
