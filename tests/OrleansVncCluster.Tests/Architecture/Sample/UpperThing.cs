namespace OrleansVncCluster.Tests.Architecture.Sample.Upper;

/// <summary>Sample for the architecture test's own test: a type on the upper floor.</summary>
public static class UpperThing
{
    public static int Answer() => 42;
}
