using System.Net;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>A failed Abiquo API request, with what Abiquo said about it when it said anything.</summary>
public sealed class AbiquoException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AbiquoException(AbiquoFailure failure, string message, Uri? requestUri = null, HttpStatusCode? statusCode = null,
        string? errorCode = null, string? errorMessage = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        RequestUri = requestUri;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>The kind of failure.</summary>
    public AbiquoFailure Failure { get; }

    /// <summary>The request that failed (never carries credentials).</summary>
    public Uri? RequestUri { get; }

    /// <summary>The HTTP status, for <see cref="AbiquoFailure.HttpStatus"/>.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Abiquo's error code (<c>GEN-5</c>, <c>EN-0</c>, ...) when the body was an Abiquo error collection.</summary>
    public string? ErrorCode { get; }

    /// <summary>Abiquo's error message, when the body was an Abiquo error collection.</summary>
    public string? ErrorMessage { get; }
}
