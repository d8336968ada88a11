using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Abiquo;

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(AbiquoCollectionDto<AbiquoEnterpriseDto>))]
[JsonSerializable(typeof(List<AbiquoLinkDto>))]
[JsonSerializable(typeof(AbiquoCollectionDto<AbiquoErrorDto>))]
[JsonSerializable(typeof(AbiquoUserDto))]
internal sealed partial class AbiquoJsonContext : JsonSerializerContext;
