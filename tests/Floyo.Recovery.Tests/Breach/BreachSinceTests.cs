using Floyo.Recovery.Breach;

namespace Floyo.Recovery.Tests.Breach;

[Trait("Tier", "Fast")]
public sealed class BreachSinceTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-03-01T14:00:00Z", "2026-03-01T14:00:00Z")]
    [InlineData("2026-03-01T14:00Z", "2026-03-01T14:00:00Z")]
    [InlineData("2026-03-01 15:30:00+01:00", "2026-03-01T14:30:00Z")]
    [InlineData("2026-03-10T12:01:00Z", "2026-03-10T12:01:00Z")]
    public void Zoned_past_times_are_read_as_utc(string text, string expected)
    {
        Assert.Equal(expected, BreachSince.Format(BreachSince.Parse(text, Now)));
        Assert.Equal(TimeSpan.Zero, BreachSince.Parse(text, Now).Offset);
    }

    [Theory]
    [InlineData("2026-03-11T00:00:00Z", "is in the future (now 2026-03-10T12:00:00Z); nothing was isolated")]
    [InlineData("yesterday", "is not a date and time")]
    [InlineData("2026-13-45T99:00:00Z", "is not a date and time")]
    [InlineData("1741000000", "is not a date and time")]
    [InlineData("2026-03-01T14:00:00", "has no time zone")]
    [InlineData("", "--since is required")]
    public void Bad_since_values_give_one_clear_line(string text, string expected)
    {
        var error = Assert.ThrowsAny<RecoveryException>(() => BreachSince.Parse(text, Now));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(ErrorKind.Usage, error.Kind);
    }

    [Theory]
    [InlineData("ALTER ROLE app PASSWORD 'hunter2-secret'", "ALTER ROLE app PASSWORD '***'")]
    [InlineData("alter user x with password E'it''s-secret' valid until 'infinity'", "alter user x with password '***' valid until 'infinity'")]
    [InlineData("SELECT dblink_connect('host=db user=a password=topsecret dbname=x')", "SELECT dblink_connect('host=db user=a password=*** dbname=x')")]
    [InlineData("SELECT 1", "SELECT 1")]
    public void Credentials_in_session_queries_are_masked(string query, string expected) =>
        Assert.Equal(expected, SecretMask.Apply(query));
}
