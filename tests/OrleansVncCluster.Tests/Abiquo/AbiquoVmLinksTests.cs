using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Tests.Fuzzing;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The reader of only the machine and enterprise titles of a VM's links (Abiquo/AbiquoVmLinksReader.cs).</summary>
public sealed class AbiquoVmLinksTests
{
    [Fact]
    public void Titles_AreFound_WhateverTheOrderOfLinksAndProperties()
    {
        var links = Read("""
            [{"href": "http://a/edit", "rel": "edit", "type": "application/vnd.abiquo.virtualmachine+json"},
             {"title": "Acme", "type": "application/vnd.abiquo.enterprise+json", "rel": "enterprise", "href": "http://a/e/1"},
             {"rel": "machine", "title": "kvm-07", "href": "http://a/m/7"}]
            """);

        Assert.Equal(new AbiquoVmLinks("kvm-07", "Acme"), links);
    }

    [Fact]
    public void RelsAndPropertyNames_MatchIgnoringCase_AndThroughEscapes()
    {
        var links = Read("""
            [{"REL": "Machine", "Title": "kvm-\u0030\u0037"},
             {"r\u0065l": "ENTERPRIS\u0045", "TITLE": "Acme"}]
            """);

        Assert.Equal(new AbiquoVmLinks("kvm-07", "Acme"), links);
    }

    [Fact]
    public void FirstLinkOfARel_Wins_EvenWithoutATitle()
    {
        var links = Read("""
            [{"rel": "machine"}, {"rel": "machine", "title": "later"},
             {"rel": "enterprise", "title": "first"}, {"rel": "enterprise", "title": "second"}]
            """);

        Assert.Equal(new AbiquoVmLinks(null, "first"), links);
    }

    [Fact]
    public void DuplicateProperties_LastOneWins()
    {
        var links = Read("""[{"rel": "edit", "title": "old", "rel": "machine", "title": "new"}]""");

        Assert.Equal(new AbiquoVmLinks("new", null), links);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("[null, {}]")]
    [InlineData("""[{"title": "no rel"}, {"rel": null, "title": "null rel"}, {"rel": "machine", "title": null}]""")]
    [InlineData("""[{"rel": "machines", "title": "x"}, {"rel": "machin", "title": "y"}, {"rel": "", "title": "z"}]""")]
    [InlineData("""[{"extra": {"rel": "machine", "title": "nested"}, "list": [1, {"rel": "machine"}], "n": 5, "b": true}]""")]
    public void UnknownOrOddLinkShapes_AreIgnored(string json)
    {
        Assert.Equal(default, Read(json));
    }

    [Fact]
    public void UnknownProperties_AroundTheWantedOnes_AreSkipped()
    {
        var links = Read("""[{"x": {"title": "no"}, "rel": "machine", "y": [{"title": "no"}], "title": "kvm-07", "z": null}]""");

        Assert.Equal(new AbiquoVmLinks("kvm-07", null), links);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("\"links\"")]
    [InlineData("[1]")]
    [InlineData("[[]]")]
    [InlineData("""[{"rel": 5}]""")]
    [InlineData("""[{"rel": "machine", "title": {"text": "kvm"}}]""")]
    [InlineData("""[{"href": ["http://a"]}]""")]
    [InlineData("""[{"type": false, "rel": "edit"}]""")]
    public void LinksOfTheWrongType_AreMalformedJson(string json)
    {
        Assert.Throws<JsonException>(() => Read(json));
    }

    [Fact]
    public void TitleThatIsNotUtf8_IsMalformedJson()
    {
        byte[] json = [.. """{"collection": [{"links": [{"rel": "machine", "title": "kvm-"""u8, 0xFF, .. "\"}]}]}"u8];

        Assert.Throws<JsonException>(() => ReadPage(json));
    }

    [Fact]
    public void RepeatedTitlesAndStates_AreOneString()
    {
        var page = ReadPage("""
            {"collection": [{"state": "ON", "links": [{"rel": "machine", "title": "kvm-shared-1"}]},
                            {"state": "ON", "links": [{"title": "kvm-shared-1", "rel": "machine"}]}]}
            """u8.ToArray());

        Assert.Equal("kvm-shared-1", page[0].Hypervisor);
        Assert.Same(page[0].Hypervisor, page[1].Hypervisor);
        Assert.Same(page[0].State, page[1].State);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[\"ON\"]")]
    public void StateOfTheWrongType_IsMalformedJson(string state)
    {
        Assert.Throws<JsonException>(() => ReadPage(Encoding.UTF8.GetBytes($$"""{"collection": [{"state": {{state}}}]}""")));
    }

    /// <summary>
    /// The converter gives what the list of link objects gave: for each rel, the title of its first link, with rels and
    /// property names matched ignoring case, and the last of duplicate properties winning.
    /// </summary>
    [Fact]
    public void AnyLinks_GiveTheTitlesOfTheFirstMachineAndEnterpriseLinks()
    {
        Fuzz.Check(LinkGen.ListOf(), links =>
        {
            var json = "[" + string.Join(",", links.Select(link => link is null ? "null" : "{" + string.Join(",", link.Select(p => $"{p.Name.Json}:{p.Value.Json}")) + "}")) + "]";

            Assert.Equal(new AbiquoVmLinks(Expected(links, "machine"), Expected(links, "enterprise")), Read(json));
        }, tests: 500);
    }

    /// <summary>JSON text and what it decodes to (null: JSON null or a value that is not a string).</summary>
    private sealed record Text(string Json, string? Value);

    private sealed record Property(Text Name, Text Value);

    private static readonly Gen<Text> NameGen = Gen.Elements(
        new Text("\"rel\"", "rel"), new Text("\"REL\"", "REL"), new Text("\"r\\u0065l\"", "rel"), new Text("\"title\"", "title"),
        new Text("\"Title\"", "Title"), new Text("\"href\"", "href"), new Text("\"type\"", "type"), new Text("\"label\"", "label"),
        new Text("\"relation\"", "relation"));

    private static readonly Gen<Text> ValueGen = Gen.Elements(
        new Text("\"machine\"", "machine"), new Text("\"MACHINE\"", "MACHINE"), new Text("\"m\\u0061chine\"", "machine"),
        new Text("\"enterprise\"", "enterprise"), new Text("\"Enterprise\"", "Enterprise"), new Text("\"edit\"", "edit"),
        new Text("\"kvm-07\"", "kvm-07"), new Text("\"Acme \\\"Ltd\\\"\"", "Acme \"Ltd\""), new Text("\"\"", ""), new Text("null", null));

    /// <summary>A null link (JSON null) or a link object's properties, unknown ones with values of any shape.</summary>
    private static readonly Gen<List<Property>?> LinkGen = Gen.Frequency(
        (1, Gen.Constant<List<Property>?>(null)),
        (12, Gen.Zip(NameGen, ValueGen).Select(p => new Property(p.Item1, p.Item2))
            // An unknown property's value may be anything, even what looks like a link.
            .Select(p => IsKnown(p.Name.Value!) ? p : p with { Value = new Text("{\"rel\":\"machine\",\"title\":[1,{\"a\":2}]}", null) })
            .ListOf()
            .Select(properties => (List<Property>?)[.. properties])));

    private static bool IsKnown(string name) =>
        name.Equals("rel", StringComparison.OrdinalIgnoreCase) || name.Equals("title", StringComparison.OrdinalIgnoreCase)
        || name.Equals("href", StringComparison.OrdinalIgnoreCase) || name.Equals("type", StringComparison.OrdinalIgnoreCase);

    private static string? Expected(IEnumerable<List<Property>?> links, string rel)
    {
        var link = links.OfType<List<Property>>().FirstOrDefault(l => string.Equals(Last(l, "rel"), rel, StringComparison.OrdinalIgnoreCase));
        return link is null ? null : Last(link, "title");
    }

    private static string? Last(List<Property> link, string name) =>
        link.LastOrDefault(p => p.Name.Value!.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value.Value;

    /// <summary>The titles of <paramref name="links"/>, through a page whose enterprise is not known from its listing.</summary>
    private static AbiquoVmLinks Read(string links)
    {
        var vm = Assert.Single(ReadPage(Encoding.UTF8.GetBytes($$"""{"collection": [{"id": 1, "links": {{links}}}]}""")));
        return new AbiquoVmLinks(vm.Hypervisor, vm.Enterprise);
    }

    private static List<AbiquoVirtualMachine> ReadPage(byte[] json) =>
        AbiquoVmPageReader.ReadAsync(new MemoryStream(json), null, CancellationToken.None).GetAwaiter().GetResult()!.Collection!;
}
