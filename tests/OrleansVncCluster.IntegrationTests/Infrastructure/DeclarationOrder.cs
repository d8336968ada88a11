using Xunit.Sdk;
using Xunit.v3;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Runs a class's test methods in the order they are written (xunit's default order is stable but arbitrary), by the
/// source line [Fact] records. For classes whose last test changes the shared fixture on purpose, e.g. takes a host
/// off the network.
/// </summary>
public sealed class DeclarationOrder : ITestMethodOrderer
{
    public IReadOnlyCollection<TTestMethod?> OrderTestMethods<TTestMethod>(IReadOnlyCollection<TTestMethod?> testMethods)
        where TTestMethod : notnull, ITestMethod =>
        [.. testMethods.OrderBy(method => (method as IXunitTestMethod)?.FactAttributes.FirstOrDefault()?.SourceLineNumber
            ?? throw new InvalidOperationException($"DeclarationOrder needs the [Fact] source line of {method?.MethodName}"))];
}
