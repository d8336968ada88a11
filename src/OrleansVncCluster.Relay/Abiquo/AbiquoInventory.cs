using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>Every VM of every enterprise, and what it took to read them.</summary>
public sealed record AbiquoInventory(IReadOnlyList<AbiquoVirtualMachine> VirtualMachines, int Enterprises, int VanishedEnterprises, int Requests, TimeSpan Elapsed);
